"""Synthetic practice network: population, epidemiology, free text, dirt and ground truth.

``build_network(preset, seed)`` builds every practice's CDM staging tables in memory;
``generate(preset, seed, out)`` writes them as vendor exports with ``network.json`` and the
ground truth (docs/synth.md).
"""

from p4dp.synth.generate import SynthError, generate
from p4dp.synth.network import Network, build_network
from p4dp.synth.presets import PRESETS, Preset, get_preset

__all__ = ["PRESETS", "Network", "Preset", "SynthError", "build_network", "generate", "get_preset"]

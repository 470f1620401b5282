"""The practice's secret keys: created on first use, readable by the agent's user only.

``<settings.keys>/<source_id>/keys.json`` holds two independent 32-byte keys: ``pseudonym`` (ids →
pseudonyms) and ``linkage`` (NIR → linkage hash). They are separate so that the linkage key can be
replaced by one shared with a trusted third party for an SNDS linkage without changing a single
pseudonym. Neither ever leaves the practice: not in a bundle, not in the warehouse.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from p4dp.privacy.pseudonym import KEY_BYTES
from p4dp.settings import Settings

KEY_FILE = "keys.json"
KEY_FILE_VERSION = 1
#: Owner read/write only: a key readable by another account of the practice's machine is a key
#: given away.
FILE_MODE = 0o600
DIR_MODE = 0o700
SOURCE_ID_RE = re.compile(r"^[a-z][a-z0-9]{1,15}$")


class KeyFileError(RuntimeError):
    """A key file is missing, unreadable or too widely readable."""


@dataclass(frozen=True)
class PracticeKeys:
    source_id: str
    pseudonym: bytes
    linkage: bytes
    path: Path


def check_source_id(source_id: str) -> str:
    if not SOURCE_ID_RE.match(source_id or ""):
        raise ValueError(
            f"code source {source_id!r} invalide : 2 à 16 caractères, minuscules et chiffres, "
            "commençant par une lettre (ex. « arm », « med », « car »)."
        )
    return source_id


def practice_dir(source_id: str, settings: Settings) -> Path:
    """The practice's private folder (keys, re-identification map, NIR linkage), created 0700."""
    d = Path(settings.keys) / check_source_id(source_id)
    d.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(d, DIR_MODE)
    return d


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, atomically (temp file then rename)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_keys(source_id: str, settings: Settings) -> PracticeKeys:
    """The practice's keys, created (0600) on first use."""
    path = practice_dir(source_id, settings) / KEY_FILE
    if not path.exists():
        _create(path, source_id)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"{path} : fichier de clés lisible par d'autres comptes (droits {mode:o}). "
            f"Restreignez-le avec « chmod 600 {path} » avant de relancer l'agent."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pseudonym = bytes.fromhex(data["pseudonym_key"])
        linkage = bytes.fromhex(data["linkage_key"])
    except (ValueError, KeyError, TypeError) as e:
        raise KeyFileError(
            f"{path} : fichier de clés illisible ({e}). Restaurez-le depuis la sauvegarde du "
            "cabinet : en créer un nouveau changerait tous les pseudonymes."
        ) from None
    if len(pseudonym) != KEY_BYTES or len(linkage) != KEY_BYTES:
        raise KeyFileError(f"{path} : clés de longueur inattendue ({KEY_BYTES} octets attendus).")
    return PracticeKeys(source_id, pseudonym, linkage, path)


def _create(path: Path, source_id: str) -> None:
    payload = json.dumps({
        "version": KEY_FILE_VERSION,
        "source_id": source_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pseudonym_key": secrets.token_bytes(KEY_BYTES).hex(),
        "linkage_key": secrets.token_bytes(KEY_BYTES).hex(),
    }, indent=2).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    try:
        # link() fails if another agent created the file meanwhile: its keys win, ours go.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def install_linkage_key(source_id: str, key: bytes, settings: Settings) -> None:
    """Replace the practice's NIR linkage key by one shared with a trusted third party."""
    if len(key) != KEY_BYTES:
        raise ValueError(f"clé de chaînage de {len(key)} octets : {KEY_BYTES} attendus")
    keys = load_keys(source_id, settings)
    data = json.loads(keys.path.read_text(encoding="utf-8"))
    data["linkage_key"] = key.hex()
    data["linkage_key_installed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    write_private(keys.path, json.dumps(data, indent=2).encode("utf-8"))

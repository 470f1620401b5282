"""The central warehouse: schema, atomic batch loads, marts, engine connections."""

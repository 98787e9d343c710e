"""Checksums of files written by the tests."""
import hashlib
from pathlib import Path


def file_sha256(path) -> str:
    """Hex SHA-256 of a file's bytes: how the tests say that two runs wrote the very same map."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

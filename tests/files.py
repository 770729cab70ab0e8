"""Small files of every kind an upload takes, and a look at what storage holds."""

from pathlib import Path

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
MARKDOWN = b"# Week 3: tummy and chest\n\nWarm your hands, ask your baby, and watch their cues.\n"


def files_on_disk(app) -> list[Path]:
    """Every file in upload storage, temporary ones included."""
    root = Path(app.config["UPLOAD_STORAGE_PATH"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []

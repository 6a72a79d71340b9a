"""Parsers of the appliance for the files no routing suite reads: the label guard's."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


def check_guard(appliance_image, name: str, text: str):
    """The label guard's files as the appliance reads them: the nftables ruleset by `nft -c`
    (a check by the kernel too, without loading), the script by `sh -n`. Returns (ok,
    output)."""
    scratch = Path(tempfile.mkdtemp(dir=appliance_image.rootfs / "tmp"))
    try:
        (scratch / name).write_text(text)
        inside = f"/{(scratch / name).relative_to(appliance_image.rootfs)}"
        check = ["nft", "-c", "-f"] if name.endswith(".nft") else ["sh", "-n"]
        result = subprocess.run(["chroot", str(appliance_image.rootfs), *check, inside],
                                capture_output=True, text=True, check=False)
        return result.returncode == 0, (result.stdout + result.stderr).strip()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

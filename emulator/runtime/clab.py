"""The containerlab runtimes: every router a container on Docker, deployed by containerlab
from the lab's generated topology (emulator/runtime/containers.py does the deploy).

- ``clab``: on this host, when it has a Docker engine, containerlab and the MPLS and VRF
  modules (a user's Linux machine). The router image is the appliance itself
  (``mplslab image build``).
- ``clab-vm``: inside the micro-VM, whose appliance carries Docker; containerlab is copied in
  from this host (``make containerlab`` builds it). ``--runtime clab`` lands here when this
  host cannot run containers itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from emulator.errors import LabError
from emulator.paths import cache_dir
from emulator.runtime import appliance, containers, frr_check
from emulator.runtime.base import Progress
from emulator.runtime.containers import engine_answers
from emulator.runtime.local import LocalNetnsRuntime
from emulator.runtime.netns import kernel_support
from emulator.runtime.vm import VmRuntime
from emulator.runtime.vm_shared import shared_folder

INSTALL_HINT = "make containerlab (builds the pinned containerlab with Go), or install it " \
               "from containerlab.dev"


def containerlab_binary() -> Path | None:
    """A containerlab on PATH (the user's own), else the one `make containerlab` built."""
    found = shutil.which("containerlab")
    if found:
        return Path(found)
    built = cache_dir() / "bin" / "containerlab"
    return built if built.is_file() else None


def image_tag() -> str:
    """The full router image, named after the appliance recipe it is made from."""
    return f"mplslab-router:{appliance.recipe_id()}"


# What a router container never uses: the VM's kernel and modules, the VM's own Docker
# engine (its binaries are half of the appliance: ~290 of 550 MB, and an import under
# software emulation takes time in proportion), documentation.
IMAGE_EXCLUDES = ["./boot", "./usr/lib/modules", "./var/lib/docker", "./var/lib/containerd",
                  "./usr/bin/containerd*", "./usr/bin/ctr", "./usr/bin/docker",
                  "./usr/sbin/dockerd", "./usr/sbin/docker-proxy", "./usr/sbin/runc",
                  "./usr/share/doc", "./usr/share/man", "./usr/share/locale"]


def image_tar_argv(rootfs: Path, out: str = "-") -> list[str]:
    """The appliance as an image's one layer."""
    return ["tar", "-C", str(rootfs), *(f"--exclude={path}" for path in IMAGE_EXCLUDES),
            "-c", "-f", out, "."]


def write_image_tarball(path: Path, progress: Progress) -> Path:
    """`mplslab image build --tar PATH`: the image as a tarball for `docker import` elsewhere
    (no engine needed here)."""
    image = appliance.build(progress=lambda line: progress(f"appliance: {line}"))
    progress(f"writing {path}")
    result = subprocess.run(image_tar_argv(image.rootfs, str(path)), capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise LabError(f"writing {path} failed: {result.stderr.strip()[-300:]}",
                       hint="give a path you can write to (--tar)")
    return path


def build_image(progress: Progress) -> str:
    """`mplslab image build`: the appliance's root filesystem as a Docker image (FRR and BIRD
    exactly as the micro-VM runs them), imported into this host's engine."""
    tag = image_tag()
    if containers.image_exists(tag):
        return tag
    image = appliance.build(progress=lambda line: progress(f"appliance: {line}"))
    progress(f"importing {image.rootfs} as {tag}")
    failed = containers.import_image(image_tar_argv(image.rootfs), tag)
    if failed is not None:
        raise LabError(f"docker import of the router image failed: {failed}",
                       hint="is the Docker engine running, and may this user use it?")
    return tag


class ClabRuntime(LocalNetnsRuntime):
    name = "clab"
    preference = 20
    inside = staticmethod(containers.container_argv)

    @classmethod
    def available(cls) -> tuple[bool, str]:
        if os.geteuid() != 0:
            return False, "not root"
        if containerlab_binary() is None:
            return False, f"containerlab is not installed ({INSTALL_HINT})"
        if not engine_answers():
            return False, "no Docker engine answers here"
        missing = kernel_support()
        if missing:
            return False, (f"this kernel has no {' and no '.join(missing)} (Docker Desktop and "
                           "WSL kernels lack them: use --runtime vm or clab-vm)")
        return True, "Docker, containerlab and a kernel with MPLS and VRF are here"

    @classmethod
    def bgpd_verdict(cls, image: str | None) -> tuple[str, frr_check.Verdict]:
        """A user's ``--image``: its bgpd copied out of the image by this host's Docker
        (without Docker nothing can be read, and the verdict says so); else the appliance's."""
        if image is None:  # the image made from the appliance (not this host's FRR)
            return appliance.routers_bgpd_verdict()
        where = f"the bgpd of the image {image}"
        if not engine_answers():
            return where, frr_check.unreadable(
                "mplslab cannot inspect the image's binary without a Docker engine here, so "
                "it cannot tell whether that bgpd carries the fix")
        code = containers.file_from_image(image, "/usr/lib/frr/bgpd")
        if isinstance(code, str):
            return where, frr_check.unreadable(
                f"mplslab could not copy /usr/lib/frr/bgpd out of the image ({code}), so it "
                "cannot tell whether that bgpd carries the fix")
        return where, frr_check.judge(code)

    @classmethod
    def force_down(cls, lab: str) -> list[str]:
        if not engine_answers():
            return []
        here = containers.ContainerLab(lab, Path("."))
        found = here.present()
        here.down()
        return [f"container {name}" for name in found]

    @property
    def lab(self) -> containers.ContainerLab:
        return containers.ContainerLab(self.state.lab, Path(self.state.rendered),
                                       image=self.state.image or image_tag())

    def up(self, progress: Progress) -> None:
        binary = containerlab_binary()
        if binary is None:
            raise LabError("containerlab is not installed", hint=INSTALL_HINT)
        os.environ["PATH"] = f"{binary.parent}:{os.environ.get('PATH', '')}"
        if self.state.image is None:
            build_image(progress)
        elif not containers.image_exists(self.state.image):
            raise LabError(f"the image {self.state.image} is not in this host's Docker engine",
                           hint=f"docker pull {self.state.image} (or leave --image out: "
                                "mplslab makes its own from the appliance)")
        super().up(progress)

    def gone(self) -> str | None:
        return None if self.lab.present() else "its containers no longer exist"

    @classmethod
    def resolve_request(cls) -> tuple[str, str]:
        """``--runtime clab`` on a host that cannot run containers itself: containerlab inside
        the micro-VM."""
        ok, why = cls.available()
        if ok:
            return cls.name, why
        ok_vm, why_vm = ClabVmRuntime.available()
        if not ok_vm:
            raise LabError(f"containerlab cannot run here ({why}) nor in the micro-VM "
                           f"({why_vm})", hint=INSTALL_HINT)
        return ClabVmRuntime.name, f"{why_vm} (not on this host: {why})"


class ClabVmRuntime(VmRuntime):
    name = "clab-vm"
    preference = 1000  # never chosen by `auto`: asked for (or `clab` on a host without Docker)
    GUEST_MODULE = containers.ContainerLab.MODULE
    inside = staticmethod(containers.container_argv)

    @classmethod
    def available(cls) -> tuple[bool, str]:
        ok, why = super().available()
        if not ok:
            return ok, why
        if containerlab_binary() is None:
            return False, f"containerlab is not installed ({INSTALL_HINT})"
        return True, "containerlab and Docker inside the micro-VM"

    @staticmethod
    def guest_bin() -> Path:
        """Where the guest finds containerlab: the VM's shared folder (gone with the VM)."""
        return shared_folder() / "bin"

    def guest_command(self, action: str) -> str:
        return f"PATH={self.guest_bin()}:$PATH {super().guest_command(action)}"

    def deploy_options(self) -> list[str]:
        return ["--in-vm"]

    @classmethod
    def share_containerlab(cls) -> Path:
        """This host's containerlab, copied where the guest finds it (once per VM)."""
        binary = containerlab_binary()
        if binary is None:
            raise LabError("containerlab is not installed", hint=INSTALL_HINT)
        target = cls.guest_bin() / "containerlab"
        if not target.is_file() or target.stat().st_size != binary.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(binary, target)
        return target

    def deploy(self, progress: Progress) -> None:
        self.share_containerlab()
        super().deploy(progress)


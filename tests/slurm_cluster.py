"""A real single-node SLURM cluster on this machine, for the SLURM test.

Debian's packages (munge, slurmctld, slurmd, slurm-client; `.ci/run` installs them) cannot
be started as services here, so the daemons are started by hand with pid files and stopped by
pid. One node needs no cgroups (proctrack/linuxproc, task/none) and no slurmdbd; without
slurmdbd `sacct` fails, so Snakemake's plugin must be told `--slurm-status-command squeue`,
which it honours only while MinJobAge is at least 3x its initial status wait: MinJobAge is
set high here. Everything the cluster writes lives in one directory. Clients would find its
slurm.conf through SLURM_CONF, but the plugin's job step drops every SLURM_* variable before
its inner `srun`, so the file must also sit at Slurm's default path, /etc/slurm/slurm.conf:
it is written there (never over a configuration this module did not write) and removed after.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo")
PACKAGES = "munge slurmctld slurmd slurm-client"
MUNGE_SOCKET_DIR = Path("/run/munge")
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# Written by ddprune's SLURM test (tests/slurm_cluster.py); removed after it.\n"


class Unavailable(RuntimeError):
    """This machine cannot run the cluster (not root, or the packages are missing)."""


def why_unavailable() -> str | None:
    """The reason the cluster cannot start here, or None."""
    if os.geteuid() != 0:
        return "starting SLURM daemons needs root"
    missing = [name for name in DAEMONS if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install {PACKAGES}; .ci/run does)"
    if DEFAULT_CONF.exists() and not DEFAULT_CONF.read_text().startswith(MARKER):
        return f"{DEFAULT_CONF} belongs to a real SLURM installation; not touching it"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _slurm_conf(directory: Path, host: str, cpus: int, memory_mb: int) -> str:
    return f"""{MARKER}\
ClusterName=ddprune-test
SlurmctldHost={host}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={directory}/state
SlurmdSpoolDir={directory}/spool
SlurmctldPidFile={directory}/slurmctld.pid
SlurmdPidFile={directory}/slurmd.pid
SlurmctldLogFile={directory}/slurmctld.log
SlurmdLogFile={directory}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
MinJobAge=600
SchedulerType=sched/builtin
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _ensure_munged() -> int | None:
    """Start munged as the munge user unless one answers already; its pid if started here."""
    if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
        return None
    MUNGE_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
    shutil.chown(MUNGE_SOCKET_DIR, "munge", "munge")
    if not Path("/etc/munge/munge.key").exists():
        subprocess.run(["runuser", "-u", "munge", "--", "mungekey", "--create"], check=True)
    subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
    return int((MUNGE_SOCKET_DIR / "munged.pid").read_text())


def _node_size() -> tuple[str, int, int]:
    """Host name, CPUs and memory (MB) as slurmd itself reports them."""
    report = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    fields = dict(item.split("=", 1) for item in report.split() if "=" in item)
    return fields["NodeName"], int(fields["CPUs"]), int(fields["RealMemory"])


def _stop(pid_file: Path) -> None:
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # raises once the process is gone
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def single_node_cluster(directory: Path) -> Iterator[dict[str, str]]:
    """Start munged, slurmctld and slurmd; yield the environment for clients; stop them."""
    reason = why_unavailable()
    if reason:
        raise Unavailable(reason)
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("state", "spool"):
        (directory / sub).mkdir(exist_ok=True)
    host, cpus, memory = _node_size()
    conf = directory / "slurm.conf"
    conf.write_text(_slurm_conf(directory, host, cpus, memory - 1024))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    munged = _ensure_munged()
    DEFAULT_CONF.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(conf, DEFAULT_CONF)
    try:
        subprocess.run(["slurmctld", "-c", "-f", str(conf)], env=env, check=True)
        subprocess.run(["slurmd", "-f", str(conf)], env=env, check=True)
        _wait_until_idle(env, directory)
        yield env
    finally:
        _stop(directory / "slurmd.pid")
        _stop(directory / "slurmctld.pid")
        DEFAULT_CONF.unlink(missing_ok=True)
        if munged is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(munged, signal.SIGTERM)


def _wait_until_idle(env: dict[str, str], directory: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True
        ).stdout.strip()
        if state == "idle":
            return
        time.sleep(0.5)
    logs = "\n".join(p.read_text()[-2000:] for p in directory.glob("*.log"))
    raise RuntimeError(f"the SLURM node never became idle (state {state!r}):\n{logs}")


def jobs(env: dict[str, str]) -> list[dict[str, str]]:
    """Every job slurmctld still remembers (MinJobAge) as a dict of `scontrol` fields."""
    text = subprocess.run(
        ["scontrol", "show", "jobs", "--oneliner"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        dict(item.split("=", 1) for item in line.split() if "=" in item)
        for line in text.splitlines()
        if line.strip() and "JobId=" in line
    ]

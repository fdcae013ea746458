"""A throwaway single-node SLURM cluster on localhost, for tests.

Needs root and the Debian packages slurmctld, slurmd, slurm-client and munge. Partitions: ``main`` (default)
and ``gpu``, over the same node, which has fake GPUs. State, logs and pid files live in ``folder``.

The configuration is written to /etc/slurm and removed when the cluster stops. A temporary folder named by
SLURM_CONF would be tidier, but the slurm-jobstep plugin drops every SLURM_* variable before the srun it runs
inside each job, so that srun only finds the default path. Files in /etc/slurm that this module did not write
(a real cluster's) are never overwritten: see ``foreign_config``.

    with SlurmCluster(folder) as cluster:
        subprocess.run(["sbatch", ...], env=cluster.env)
"""

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
CONF_DIR = Path("/etc/slurm")
MARKER = "# written by forgetlab tests/slurm_cluster.py; removed when its cluster stops\n"


def missing_binaries():
    """The daemons and commands this module needs that are not installed."""

    def found(name):
        return shutil.which(name) or os.path.exists(f"/usr/sbin/{name}")

    return [name for name in (*DAEMONS, "sinfo", "squeue", "sbatch", "scancel", "munge") if not found(name)]


def _ours(path):
    return path.read_text().startswith(MARKER)


def foreign_config():
    """Configuration files in /etc/slurm that this module did not write."""
    return [path for path in (CONF_DIR / "slurm.conf", CONF_DIR / "gres.conf") if path.exists() and not _ours(path)]


def _binary(name):
    return shutil.which(name) or f"/usr/sbin/{name}"


def _tail(path, lines=30):
    try:
        return "".join(Path(path).read_text(errors="replace").splitlines(keepends=True)[-lines:])
    except OSError as error:
        return f"({error})\n"


class SlurmCluster:
    def __init__(self, folder, gpus=4, cpus=4):
        self.folder = Path(folder)
        self.gpus = gpus
        # More CPUs than the machine has: test jobs mostly wait (Snakemake start-up, status polling), so four
        # at a time finish the run sooner than two; config_overrides lets slurmd accept the declared count.
        self.cpus = max(cpus, os.cpu_count() or 1)
        self.host = socket.gethostname().split(".")[0]  # slurmd matches its NodeName to the short hostname
        self.conf = CONF_DIR / "slurm.conf"
        # explicit, because tests/conftest.py points SLURM_CONF at an empty file for non-SLURM runs
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.processes = []  # (name, Popen) in start order

    def write_config(self):
        spool = self.folder / "spool"
        shutil.rmtree(spool, ignore_errors=True)  # fresh state: a stale node state (DRAIN) would survive restarts
        (spool / "ctld").mkdir(parents=True)
        (spool / "d").mkdir()
        with open("/proc/meminfo") as meminfo:
            total_mib = int(meminfo.readline().split()[1]) // 1024
        CONF_DIR.mkdir(exist_ok=True)
        self.conf.write_text(
            MARKER
            + f"""\
ClusterName=forgetlab-test
SlurmctldHost={self.host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
GresTypes=gpu
# no cgroups, no accounting database: nothing to set up beyond munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without it a job lacking --mem takes the whole node and jobs run one at a time
DefMemPerCPU=1024
ReturnToService=2
# finished jobs stay in squeue for an hour: the profile's status command needs a few minutes, the test's
# check of every job's partition needs the whole run
MinJobAge=3600
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation={spool / "ctld"}
SlurmdSpoolDir={spool / "d"}
SlurmctldPidFile={self.folder / "slurmctld.pid"}
SlurmdPidFile={self.folder / "slurmd.pid"}
SlurmctldLogFile={self.folder / "slurmctld.log"}
SlurmdLogFile={self.folder / "slurmd.log"}
SlurmctldDebug=info
SlurmdDebug=info
SlurmdParameters=config_overrides
# RealMemory must not exceed what slurmd detects, or the node is invalid
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={total_mib - 1024} Gres=gpu:{self.gpus} \
State=UNKNOWN
PartitionName=main Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={self.host} Default=NO MaxTime=INFINITE State=UP
"""
        )
        # Fake GPUs: each needs an existing device file (a Count-only line reports 0 GPUs and the node goes
        # INVAL), and distinct files make distinct GPUs.
        devices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/urandom"][: self.gpus]
        lines = [f"NodeName={self.host} Name=gpu File={device}" for device in devices]
        (CONF_DIR / "gres.conf").write_text(MARKER + "AutoDetect=off\n" + "\n".join(lines) + "\n")

    def _munge_works(self):
        return subprocess.run(["munge", "-n"], capture_output=True).returncode == 0

    def _spawn(self, name, command, **options):
        # Foreground daemons (-F, -D) stay our children: their PIDs are known without pid files, and stop()
        # can wait for them.
        log = open(self.folder / f"{name}.out", "w")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True, **options
        )
        log.close()
        self.processes.append((name, process))

    def _wait(self, what, ready, timeout):
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [f"{name} exited with {p.returncode}" for name, p in self.processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = sorted(self.folder.glob("*.log")) + sorted(self.folder.glob("*.out"))
                tails = "".join(f"--- {path.name}\n{_tail(path)}" for path in logs)
                raise RuntimeError(f"SLURM cluster: no {what} after {timeout} s {dead}\n{tails}")
            time.sleep(0.25)

    def node_state(self):
        result = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, env=self.env)
        return result.stdout.split()[0] if result.returncode == 0 and result.stdout.split() else None

    def start(self, timeout=60):
        if foreign_config():
            raise RuntimeError(f"not overwriting {', '.join(map(str, foreign_config()))}")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.write_config()
        # munge authenticates every SLURM message. A munged that already runs (a system service) is used as it
        # is; ours runs as user munge with the package's key and socket, as the Debian service would.
        if not self._munge_works():
            os.makedirs("/run/munge", exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            self._spawn("munged", [_binary("munged"), "-F"], user="munge", group="munge", extra_groups=[])
            self._wait("munge", self._munge_works, 10)
        self._spawn("slurmctld", [_binary("slurmctld"), "-D", "-f", str(self.conf)])
        self._spawn("slurmd", [_binary("slurmd"), "-D", "-f", str(self.conf), "-N", self.host])
        self._wait("idle node", lambda: self.node_state() == "idle", timeout)
        return self

    def stop(self):
        # Jobs first: their slurmstepd processes would outlive slurmd.
        if any(name == "slurmctld" and p.poll() is None for name, p in self.processes):
            subprocess.run(["scancel", "--user", getpass.getuser()], capture_output=True, env=self.env, timeout=30)
        for _, process in reversed(self.processes):  # slurmd, slurmctld, munged
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes = []
        # A slurm.conf whose controller is gone makes every SLURM command (and every Snakemake start,
        # through the SLURM plugin) wait ~10 s for it.
        for path in (CONF_DIR / "slurm.conf", CONF_DIR / "gres.conf"):
            if path.exists() and _ours(path):
                path.unlink()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()

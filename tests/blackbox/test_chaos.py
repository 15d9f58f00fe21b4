"""Chaos: follow mode under a kubelet-style writer that rotates by rename
every few seconds, while logship is killed with SIGKILL at random moments
for about a minute (about half of the kills land 0-0.35 s after a rotation,
where a crash is most likely to lose a rotated file's tail), restarted each
time, then drained.

What is asserted, and why it is exactly what logship promises:
  * Nothing lost whose file existed when logship (re)started after the line
    was written: such a file can be found again (by its glob, or by inode
    after a rename) and read to its end. "Existed" means still there GRACE_S
    (2 s) after that start, so logship had the time to read it. Lines of a
    rotated file deleted while logship was down (or within GRACE_S of a start
    followed by a kill) may be lost; they are counted and printed ("excused"),
    never asserted on.
  * Duplicates only of unacknowledged records. Which records were
    acknowledged at the moment of a SIGKILL cannot be observed from outside,
    so the test asserts a bound that follows from it: every duplicated line
    was written at most DUP_WINDOW_S before some kill (with a 50 ms batch
    timeout, a record older than that was acknowledged and committed long
    before the kill, unless logship was lagging, which the writer's modest
    rate avoids). The number of duplicates is printed.
  * The checkpoint file stays small: at the end it holds entries only for
    the live file and the rotated files still kept (kubelet keeps a few),
    not one per file ever seen.
  * The output is valid NDJSON (no torn line survives a kill).

Seeded randomness (CHAOS_SEED) makes a failure reproducible in its kill
schedule; thread timing still varies from run to run.
"""

import json
import os
import pathlib
import random
import signal
import threading
import time

from conftest import read_records, wait_for
from follow_agent import FollowAgent

CHAOS_SECONDS = float(os.environ.get("LOGSHIP_CHAOS_SECONDS", "60"))
CHAOS_SEED = int(os.environ.get("LOGSHIP_CHAOS_SEED", "20261201"))
LINES_PER_SECOND = 300
KEEP_ROTATED = 3          # rotated files kept, as kubelet's containerLogMaxFiles
DUP_WINDOW_S = 5.0
GRACE_S = 2.0


class RotatingWriter(threading.Thread):
    """Writes CRI lines {"seq": n} to <dir>/0.log, rotating kubelet style:
    rename 0.log -> 0.log.<timestamp> in the same directory, new 0.log, and
    deletes the oldest rotated file beyond KEEP_ROTATED."""

    def __init__(self, directory: pathlib.Path, rng: random.Random):
        super().__init__(daemon=True)
        self.dir = directory
        self.rng = rng
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.rotate = True
        self.seq = 0
        self.file_of = []          # seq -> file number
        self.written_at = []       # seq -> monotonic time
        self.deleted_at = {}       # file number -> monotonic time
        self.rotations = []        # monotonic times of renames
        self.rotated = threading.Condition(self.lock)
        self.file_no = 0

    def run(self):
        live = self.dir / "0.log"
        f = open(live, "ab")
        kept = []
        next_rotation = time.monotonic() + self.rng.uniform(2.0, 4.0)
        burst = max(1, LINES_PER_SECOND // 50)
        while not self.stop_flag.is_set():
            now = time.monotonic()
            with self.lock:
                for _ in range(burst):
                    payload = json.dumps({"seq": self.seq, "pad": "x" * 40})
                    f.write(f"2026-11-26T23:08:04.000000001Z stdout F {payload}\n".encode())
                    self.file_of.append(self.file_no)
                    self.written_at.append(now)
                    self.seq += 1
                f.flush()
                if self.rotate and now >= next_rotation:
                    f.close()
                    stamp = time.strftime("%Y%m%d-%H%M%S") + f".{self.file_no:06d}"
                    rotated = self.dir / f"0.log.{stamp}"
                    os.rename(live, rotated)
                    kept.append((self.file_no, rotated))
                    self.file_no += 1
                    f = open(live, "ab")
                    self.rotations.append(time.monotonic())
                    self.rotated.notify_all()
                    while len(kept) > KEEP_ROTATED:
                        no, old = kept.pop(0)
                        old.unlink()
                        self.deleted_at[no] = time.monotonic()
                    next_rotation = now + self.rng.uniform(2.0, 4.0)
            time.sleep(0.02)
        f.close()

    def wait_rotation(self, timeout):
        with self.lock:
            count = len(self.rotations)
            self.rotated.wait_for(lambda: len(self.rotations) > count, timeout=timeout)


def test_kill9_under_rotation_loses_nothing_still_on_disk(tmp_path):
    rng = random.Random(CHAOS_SEED)
    logs = tmp_path / "pods" / "ns_app-0_uid" / "app"
    logs.mkdir(parents=True)
    inputs = f"{tmp_path}/pods/*/*/*.log"
    writer = RotatingWriter(logs, random.Random(rng.random()))

    starts = []   # monotonic times at which logship was (re)started
    kills = []    # monotonic times of SIGKILL
    max_checkpoint_entries = 0

    def start_agent():
        agent = FollowAgent(tmp_path, inputs).start()
        starts.append(time.monotonic())
        return agent

    def checkpoint_entries():
        cp = tmp_path / "state" / "checkpoints.json"
        return len(json.loads(cp.read_text())["files"]) if cp.exists() else 0

    agent = start_agent()
    writer.start()
    try:
        chaos_end = time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < chaos_end:
            if rng.random() < 0.5:
                # Just after a rename: where the crash-after-rotation bug bites.
                writer.wait_rotation(timeout=5)
                time.sleep(rng.uniform(0.0, 0.35))
            else:
                time.sleep(rng.uniform(1.0, 4.0))
            agent.proc.send_signal(signal.SIGKILL)
            agent.proc.wait(timeout=10)
            kills.append(time.monotonic())
            max_checkpoint_entries = max(max_checkpoint_entries, checkpoint_entries())
            time.sleep(rng.uniform(0.0, 0.5))  # the restart gap: rotations go on
            agent = start_agent()

        # Drain: the writer stops rotating and deleting, then stops.
        with writer.lock:
            writer.rotate = False
        time.sleep(0.5)
        writer.stop_flag.set()
        writer.join(timeout=10)
        total = writer.seq

        # A line must arrive if its file still existed GRACE_S after a
        # (re)start that came after the line was written (logship then had
        # the time to find the file and read it), or still exists now. A
        # file deleted sooner after a start, in a run that was killed at
        # once, may legitimately take its unread lines with it.
        def protected(seq):
            t = writer.written_at[seq]
            deleted = writer.deleted_at.get(writer.file_of[seq])
            return deleted is None or any(t < s and s + GRACE_S < deleted for s in starts)

        must = {s for s in range(total) if protected(s)}
        excused = total - len(must)

        def delivered():
            return {r["log"]["seq"] for r in agent.records()}

        try:
            wait_for(lambda: must <= delivered(), timeout=45, what="every protected line delivered")
        except AssertionError:
            pass  # reported below with the missing lines
        assert agent.stop() == 0, agent.stderr()[-3000:]

        records = read_records(agent.out)  # strict: valid JSON lines, no torn line
        seqs = [r["log"]["seq"] for r in records]
        counts = {}
        for s in seqs:
            counts[s] = counts.get(s, 0) + 1
        lost = sorted(must - counts.keys())
        dups = sorted(s for s, c in counts.items() if c > 1)
        unexplained_dups = [s for s in dups
                            if not any(0 <= k - writer.written_at[s] <= DUP_WINDOW_S for k in kills)]
        entries = checkpoint_entries()
        cp_bytes = (tmp_path / "state" / "checkpoints.json").stat().st_size
        print(f"chaos: seed {CHAOS_SEED}, {len(kills)} kills, {len(writer.rotations)} rotations, "
              f"{total} lines written, {len(lost)} lost, {excused} excused (file deleted while logship "
              f"was down), {sum(counts[s] - 1 for s in dups)} duplicates of {len(dups)} lines "
              f"({len(unexplained_dups)} outside the {DUP_WINDOW_S:g} s before a kill), "
              f"checkpoint entries {entries} (max seen at a kill {max_checkpoint_entries}), {cp_bytes} bytes")

        assert len(kills) >= 10
        assert not lost, (f"{len(lost)} lines lost whose file existed at a restart, e.g. "
                          f"{[(s, writer.file_of[s]) for s in lost[:10]]}")
        assert not unexplained_dups, f"duplicates of acknowledged lines, e.g. {unexplained_dups[:10]}"
        assert all(0 <= s < total for s in counts), "records that were never written"
        # The live file and the rotated ones still kept, with a little slack
        # for a rotation the agent has not pruned yet; never one per rotation.
        assert entries <= 1 + KEEP_ROTATED + 2, (tmp_path / "state" / "checkpoints.json").read_text()
        assert max_checkpoint_entries <= 1 + KEEP_ROTATED + 4
        assert cp_bytes <= 4096
    finally:
        writer.stop_flag.set()
        if agent.proc and agent.proc.poll() is None:
            agent.proc.kill()

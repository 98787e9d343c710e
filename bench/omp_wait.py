"""OpenMP wait policy vs load: one SNN training step of the default model (batch 64, T=5), with 1 and 2 torch
threads and the spinning (ACTIVE) or sleeping (PASSIVE) wait policy, optionally with a busy-loop process taking
one core. Each combination runs in a fresh process (the policy is read when OpenMP starts).

usage: python bench/omp_wait.py [--busy] [--steps 6]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, sys, time, torch
from hypersnn.core.config.schema import ModelConfig
from hypersnn.core.nn.models import HSINet
torch.manual_seed(0)
torch.set_num_threads(int(sys.argv[1]))
net = HSINet(ModelConfig(), 30, 16, bits=6, time_steps=5)
net.set_thresholds([0.3] * 4); net.spiking = True; net.train()
opt = torch.optim.Adam(net.parameters(), 1e-4)
x = torch.randn(64, 30, 11, 11); y = torch.randint(0, 16, (64,))
def step():
    loss = torch.nn.functional.cross_entropy(net(x).flatten(1), y)
    opt.zero_grad(); loss.backward(); opt.step()
step()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(int(sys.argv[2])):
    step()
n = int(sys.argv[2])
print(json.dumps({"step_s": (time.perf_counter() - t0) / n, "cpu_s": (time.process_time() - c0) / n}))
"""


def measure(threads: int, policy: str, steps: int) -> dict:
    env = dict(os.environ, OMP_WAIT_POLICY=policy)
    r = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(steps)], env=env, capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--busy", action="store_true", help="keep one core busy with another process meanwhile")
    ap.add_argument("--steps", type=int, default=6)
    args = ap.parse_args(argv)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    try:
        rows = [{"threads": t, "policy": p, **measure(t, p, args.steps)}
                for p in ("ACTIVE", "PASSIVE") for t in (1, 2)]
    finally:
        if hog is not None:
            hog.kill()
    for r in rows:
        print(f"threads {r['threads']}  {r['policy']:7s}  step {1000 * r['step_s']:6.0f} ms  cpu {r['cpu_s']:.2f} s"
              + ("  (one core busy)" if args.busy else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every interop test script shares: timestamped steps, checks that raise, and a runner that
runs the named suites (each in a fresh Topology, or given none), reports each, and gives the exit
code: 0 only if every suite passed."""
import os
import time

from strongswan import HarnessError, Topology, check_installed

T0 = time.monotonic()


def step(msg):
    print(f"[{time.monotonic() - T0:6.2f}s] {msg}", flush=True)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run_suites(suites, names, topology=None):
    """suites: name -> function; with `topology` (Topology keyword arguments) each function gets a
    fresh Topology, else none. Missing root or strongSwan fails (never skips)."""
    names = names or list(suites)
    try:
        if os.geteuid() != 0:
            raise HarnessError("needs root (network namespaces)")
        check_installed()
    except HarnessError as e:
        print(f"FAIL: {e}\n0 passed, 1 failed", flush=True)
        return 1
    failed = []
    for name in names:
        step(f"suite {name}")
        try:
            if topology is None:
                suites[name]()
            else:
                with Topology(**topology) as topo:
                    suites[name](topo)
            step(f"suite {name}: ok")
        except Exception as e:  # noqa: BLE001 - report it and go on with the next suite
            failed.append(name)
            step(f"suite {name}: FAILED: {type(e).__name__}: {e}")
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0

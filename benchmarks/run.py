"""Entry point of `make bench`: will run Haven's performance benchmarks; none are written yet."""

import sys


def main() -> int:
    print("No benchmarks exist yet: benchmarks/run.py has nothing to measure.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Haven's performance benchmarks, run by `make bench` (see benchmarks/run.py)."""

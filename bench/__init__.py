"""Benchmarks of the gateway against a plain JSON endpoint (``python -m bench``; see README).

Figures only: nothing here passes or fails on time, and pytest never collects this package.
"""

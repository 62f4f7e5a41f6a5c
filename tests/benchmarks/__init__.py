"""Benchmarks against same-run baselines: ``python -m tests.benchmarks [AREA ...] [--quick]``.

Never collected by pytest (no ``test_`` modules or functions here); ``make
bench`` runs them. Each area module registers itself with ``harness.area``;
list new modules in ``AREA_MODULES``.
"""

#: Modules that register benchmark areas, in the order a full run takes them.
AREA_MODULES = ("store", "projections", "feeds", "service", "exploration")

"""SSBTEK Core benchmarks (issue 6): ``python -m bench [--quick]``, or ``make bench``.

Every scenario is described in ``bench/README.md``. Nothing here is imported by the
service; the benchmarks use the service's own modules exactly as the composition root
does, and start servers as separate processes.
"""

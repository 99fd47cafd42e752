"""Benchmarks of authing-mfa against the raw HTTP code a user could write instead.

Run ``python -m benchmarks`` (``--quick`` for a run under a minute, ``--only SCENARIO`` for a
few, ``--json PATH`` for where the results go). It prints a Markdown table and writes the same
data, with the machine it ran on, as JSON (``benchmarks/results/latest.json`` by default).
``--profile SCENARIO`` prints where one scenario's SDK calls spend their time instead.

What is in it:

- `_responder`: the bare HTTP/1.1 server in a child process that every socket scenario talks
  to, fast enough not to hide the clients' cost, reporting its own CPU per request, and also
  serving TLS with a throwaway certificate for the https rows.
- `_contenders`: the requests and the envelope parsing every raw contender shares.
- `_scenarios`: one function per scenario of the README's table.
- `_bulk_child`: one repetition of a bulk scenario (import, status, unbind), and
  `_first_call`: one cold first call under a loop-lag probe, each in a process of its own.
- `_timing`: interleaved repetitions and their statistics; `_report`: targets, the table, JSON.
- `_profile` and `_cprofile`: ``--profile``; `_memory`: a process's resident memory.
- `bulk_dry_run_memory`: the peak memory of million-row runs that send nothing.

Ratios are what to read: a contender's median over its baseline's median, measured in the same
run. Absolute times depend on the machine; the ratios much less. Targets are marked, never
enforced: the command exits 0 when one is missed.
"""

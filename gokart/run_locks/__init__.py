"""Run locks: a task's run is held exclusively by one worker, on one machine or many.

Layer storage (docs/design.md): may import storage, ids, core and 1.12's conflict_prevention_lock; imported by 1.12's task, worker and execution.

The executor (``gokart.execution.local.run_task``, and ``gokart.worker`` on the luigi path) takes a
task's run lock, checks completion under it, runs the task and releases it, so that processes
building overlapping DAGs run each task once. One interface (``RunLock``: acquire, renew, release,
holder), four backends chosen by ``[gokart] run_lock`` (see ``selection``):

- ``file``: byte-range locks in ``{workspace}/.gokart-locks/`` (local workspaces, one machine);
- ``redis``: the Redis lock ``should_lock_run`` uses (``redis_host``/``redis_port``, any machine);
- ``workspace``: lease objects under ``{workspace}/.gokart-leases/`` written with conditional
  requests (S3 ``If-None-Match``/``If-Match``, GCS ``ifGenerationMatch``): no server besides the store;
- ``none``: no lock.

Modules: ``base`` (the interface), ``selection`` (which backend a task gets), ``settings`` (the
config), ``ownership`` (what the executor holds now), one module per backend (``file``, ``redis``,
``lease`` with ``s3_leases`` and ``gcs_leases``).
"""

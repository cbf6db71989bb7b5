"""The storage seam: the file system of every location (``filesystem``), the boto3 S3 file system, storage options, output paths, signing.

May import ``core`` and ``ids`` (and 1.12's storage-side modules); imported by records, run_locks, execution and commands.
"""

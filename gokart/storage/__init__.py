"""Where bytes live: filesystem (every location), s3_filesystem, options, output_path, local_target_seam, signing.

Layer storage (docs/design.md): may import ids, core and 1.12's target, file_processor, locks beside it; imported by records and above.
"""

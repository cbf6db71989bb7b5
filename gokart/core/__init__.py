"""What every layer may use: the task protocol, error messages, config lookup, human units, the DAG walk.

May import only gokart 1.12's leaf modules ``errors`` and ``utils``; everything else in gokart may import it.
"""

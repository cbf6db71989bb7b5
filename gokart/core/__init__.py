"""What every layer uses: the task protocol, error messages, config lookup, human units and the DAG walk (dag).

Layer core (docs/design.md): may import gokart 1.12's errors and utils only; every other layer may import it.
"""

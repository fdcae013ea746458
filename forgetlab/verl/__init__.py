"""RL stages on verl (``engine: verl``): PPO with a learned critic, and GRPO / RLOO past one node.

forgetlab writes what verl reads and reads what verl writes; verl trains. The modules know no workflow paths:
``settings`` turns a stage into verl's Hydra overrides, ``data`` its prompts into verl's parquet rows, ``reward``
is the custom reward function verl's reward manager calls, ``log`` turns verl's metrics into forgetlab's step log,
``cluster`` starts Ray across a SLURM allocation and ``launch`` runs a stage from end to end. verl lives in an
environment of its own (requirements/verl.txt: it pins transformers below the core's range), so nothing here is
imported by the core install; forgetlab.compat.verl names the verl release they were written against.
"""

"""Targets kept in this process's memory instead of files (experimental, as in gokart 1.12)."""

from gokart.in_memory.repository import InMemoryCacheRepository
from gokart.in_memory.target import InMemoryTarget, make_in_memory_target

__all__ = ['InMemoryCacheRepository', 'InMemoryTarget', 'make_in_memory_target']

"""Library entry points behind the command line: typed configurations and the builders they feed.

``config`` (the train YAML as dataclasses), ``model``/``data``/``loss``/``evaluator``/``training`` (one
builder each), ``schedule`` (the keep-best evaluation schedule), ``train`` (a whole run), ``mine`` (mining
from a configuration), ``evaluate`` (an evaluator from a data file) and ``rank``. They raise ordinary
exceptions (``ValueError``, ``FileNotFoundError``); ``crossrank.cli`` parses, calls them and prints.
"""

from __future__ import annotations

"""The catalogue: textbook equations as data, one TOML file per source.

Empty for now: the catalogue and its loader arrive with `bpcheck check`.
"""

"""What the book ships, loaded and validated: the microdata (``datasets``), the evidence table
(``evidence``) and its two codings (``coding``), the claims registry and the source texts
(``claims``), and the map of every source sentence (``sentences``). Every problem raises
:class:`DataError` naming the file, the line and the column; nothing is dropped silently.

Layer 2 of 5 (see CONTRIBUTING.md): it may import ``stats`` only.

The loaders of the microdata are re-exported here (``tracking_evidence.data.load_hsb()``).
"""

from .datasets import (DATASETS, Column, DataError, Dataset, book_path, data_dir, load, load_egsingle, load_exam,
                       load_hsb, load_hsb_schools, load_hsb_students, load_nlschools, provenance, read_dataset,
                       recorded_checksums, reference_dir, sha256)

__all__ = ["DataError", "DATASETS", "data_dir", "book_path", "reference_dir", "load", "read_dataset", "Column",
           "Dataset", "load_hsb_students", "load_hsb_schools", "load_hsb", "load_egsingle", "load_exam",
           "load_nlschools", "provenance", "recorded_checksums", "sha256"]

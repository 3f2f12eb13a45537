"""The instructor's machinery, kept out of the student's library: the student edition does not ship it.

The autograder (``grading``) runs each submission in a sandbox (``sandbox``, bubblewrap with limits)
through a runner (``submission_runner``), exchanging data only (``exchange``), and scores it against
the reference answers read from the instructor's solution cells (``reference_answers``); the
student-edition builder (``student_edition``); the exercises an instructor picks from
(``catalogue``); and the hand-written PyTorch backward (``hand_written_backward``), which answers
chapter 6's exercise and which ``lstm_course.models.torch_lstm`` uses when this package is installed.

    python -m lstm_instructor student-edition OUT_DIR
    python -m lstm_instructor grade SUBMISSION.ipynb ... --out grades.csv
"""

"""The exercises' public side: the checks a student runs in the notebook, and the inputs they draw.

``checks`` has one ``check_NAME`` per implement exercise; ``exercise_inputs`` draws every exercise's
inputs from a seed (public in the notebook; secret when the instructor's grader, in
``lstm_instructor``, draws them). Every chapter.
"""

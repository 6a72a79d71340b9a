"""What trainees see: the lab as a picture (and, next, the slides' walkthroughs, live)."""

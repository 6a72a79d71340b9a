"""What trainees see: the lab as a picture, the slides' walkthroughs with live labels, the
HTML report, and break/fix exercises graded by the verifier."""

"""SMS text as the network carries it: GSM-7/UCS-2 encoding and segmentation.

Its own package because both sides need it and neither owns it: `messages` prices a text by its
encoding and segment count, and the SMPP client splits and encodes it for the link. Importing it
from either would make the other depend on a feature package it has no business with.
"""

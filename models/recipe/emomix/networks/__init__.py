"""The networks and what defines their training and sampling: the acoustic model (text
encoder, frame decoder, score estimators, diffusion, monotonic alignment search), the
speech emotion recogniser, the vocoder and its discriminators."""

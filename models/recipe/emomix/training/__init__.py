"""The training commands (train-ser, train-acoustic, train-vocoder, pack-checkpoints) and
what their loops share."""

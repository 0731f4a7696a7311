"""Writing voices in the contract of CONTRACT.md: the export command, weight compression
and the tiny voice with reference tensors for the runtime's parity tests."""

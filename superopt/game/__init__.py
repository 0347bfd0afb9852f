"""AlphaDev's assembly game: states and actions, the bit-packed evaluator and lower bounds."""

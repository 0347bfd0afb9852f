"""The AlphaDev agent: MCTS guided by a torch network with policy and value heads, trained by self-play."""

"""The searchers behind one interface (base): enumerative, beam, stochastic and alphadev."""

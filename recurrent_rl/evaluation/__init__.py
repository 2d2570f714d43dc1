"""Playing a policy: N episodes with the LSTM state carried and reset (:mod:`.episodes`), a saved run
played back from its folder (:mod:`.saved`), and videos of it."""

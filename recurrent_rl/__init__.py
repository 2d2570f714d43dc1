"""Recurrent (LSTM) PPO agents for partially observable environments."""

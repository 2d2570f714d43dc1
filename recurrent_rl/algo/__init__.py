"""The learning algorithm: building agent and policy from a config, the fast recurrent PPO (policy, rollout
buffer, algorithm) and the CNN feature extractors."""

"""Reconciliation: keep GovernedModel status, conditions and history current.

Pure functions from the observed objects to the status they should have; the handlers
package writes the result. Nothing here calls the API server.
"""

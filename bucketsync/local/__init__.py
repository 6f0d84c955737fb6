"""The in-process engine for local runs (`fab sync`, `fab demo`, tests).
Never shipped inside the Lambda zip."""

"""`python -m grappe`: the same command line as the `grappe` script."""

from grappe.cli import main

main()

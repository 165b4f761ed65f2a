from tidings.core.cli import main

main()

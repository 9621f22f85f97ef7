from telroute.cli import main

main()

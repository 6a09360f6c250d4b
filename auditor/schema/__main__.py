from auditor.schema import main

main()

from mutation.run import main

raise SystemExit(main())

using Nanoq.Cli;

return Commands.Dispatch(args, Console.Out, Console.Error);

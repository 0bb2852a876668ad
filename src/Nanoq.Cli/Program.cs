using Nanoq.Cli;

return CommandTable.Dispatch(args, Console.Out, Console.Error);

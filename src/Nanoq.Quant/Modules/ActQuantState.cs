namespace Nanoq.Quant.Modules;

/// <summary>What an <see cref="ActQuantizer"/> does with its input.</summary>
public enum ActQuantState
{
    /// <summary>Pass through, observe nothing (the float model).</summary>
    Float,

    /// <summary>Pass through and record the values in the observer (the calibration pass runs the float model).</summary>
    Calibrating,

    /// <summary>Fake-quantize with the calibrated range (and, with <see cref="ActQuantizer.TrackRangeInTraining"/>,
    /// keep updating it from each training batch first).</summary>
    Quantizing,
}

namespace Nanoq.Coco.Data;

/// <summary>
/// What <see cref="CocoDataLoader"/> does with an image that cannot be read, decoded, or does not match its json entry.
/// <see cref="Throw"/> is the default: a data set with a broken file is usually a broken download, and a run that
/// silently trains on part of it is worse than one that stops and names the file. <see cref="Skip"/> (a training
/// command's <c>--skip-bad-images</c>) is for large real-world sets where a few bad files are known and accepted.
/// </summary>
public enum BadImagePolicy
{
    /// <summary>The <see cref="CocoFormatException"/> naming the image, its id and the json ends the epoch.</summary>
    Throw,

    /// <summary>The image is left out of its batch, reported once to <see cref="CocoDataLoader.OnBadImage"/> and counted in
    /// <see cref="CocoDataLoader.BadImageCount"/>; later epochs skip it without decoding it again.</summary>
    Skip,
}

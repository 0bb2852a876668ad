namespace Nanoq.Coco.Datasets;

/// <summary>The classes of the <c>shapes</c> data set; category id = (int)kind.</summary>
public enum ShapeKind
{
    Rectangle = 1,
    Ellipse = 2,
    Triangle = 3,
    Diamond = 4,
    Ring = 5,
}
